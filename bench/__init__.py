"""Benchmarks of the WSO Custody Clock (``python -m bench``; see ``bench/README.md``).

One module per benchmark (``b1_arrest_load`` … ``b5_memory``); ``common`` holds
the bot process, the fake Slack process, the machine facts and the result type.
Everything runs on this machine and sends traffic to 127.0.0.1 only.
"""
