"""WSO Custody Clock."""
