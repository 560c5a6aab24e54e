"""Hotline's Prometheus instruments, counted where things happen (the webhook runner,
the REST gateway, the apology). ``admin.metrics`` serves them with what the database
says at scrape time."""
