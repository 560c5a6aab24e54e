"""The call kernel every domain builds on: the call's context and clock, the stage
table, the one webhook runner for callers and agents, and the only TwiML builders."""
