"""The bridge console: what was delivered, what is stuck and why, in the browser, with the operator's actions.

    GET  /                                   overview: version, store, uptime, receivers and their channels with
                                             counts by state, recent notifications (filter by state and receiver)
    GET  /notifications/{id}                 one notification: its alerts, deliveries, and the text each channel sends
    POST /notifications/{id}/retry           form: its dead deliveries (or `delivery`) back to pending
    POST /channels/{channel}/retry-dead      form: every dead delivery of a channel (name, key or `all`)
    POST /receivers/{receiver}/send-test     form: what `allim-bridge send-test` sends

Server-rendered (Jinja2, autoescaped, templates/ here over allim/web's base), no JavaScript. With a token the
console asks for it (basic auth, any user name); actions are POST forms carrying a form token (csrf.py).
"""

from bridge.console.routes import console_routes

__all__ = ["console_routes"]
