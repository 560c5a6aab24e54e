"""What happened on the hotline, measured: live figures, reports over a period, a call's
timeline, charts. Reads the database; changes nothing."""
