"""The sandbox: the real bot against an in-process Slack stand-in, in a browser page.

``wso-bot sandbox`` (and ``make run`` without Slack credentials) builds it. Nothing here is
used by ``wso-bot serve``: the stand-in workspace, the clock that travels and the page's
routes exist only in this package, and only ``bot.sandbox.runner`` wires them in.
"""
