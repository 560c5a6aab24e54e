"""The call flow: the flow file and its schema, the TwiML it renders, the /voice webhooks."""
