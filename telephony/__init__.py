"""The Twilio edge: webhook signatures and parameters, URLs, phone numbers, the REST
gateway, and the simulator that stands in for Twilio."""
