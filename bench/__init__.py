"""Benchmarks of the WSO Custody Clock (``python -m bench``; see ``bench/README.md``).

One module per benchmark (``b1_arrest_load`` … ``b9_arrest_burst``); ``common`` holds
the bot process, the fake Slack process, the machine facts and the result type;
``figures`` the arithmetic of percentiles and ratios; ``arrest_load`` the load
generator of B1 and B9; ``floor_app`` the floor they measure the bot against (run by
``floor_process``). Everything runs on this machine and sends traffic to 127.0.0.1 only.
"""
