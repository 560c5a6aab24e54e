"""The operators' console: the wallboard, calls, worklists, reports, the flow's traffic,
the browser phone and the metrics endpoint, behind operator accounts."""
