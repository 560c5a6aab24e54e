"""Operator tools: importing customers and agents, the demo data set."""
