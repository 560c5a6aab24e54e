"""Agent queues: waiting, business hours, callbacks, voicemail and the rating after a call."""
