"""The Twilio edge: webhook signatures, webhook parameters, URLs and the REST gateway."""
