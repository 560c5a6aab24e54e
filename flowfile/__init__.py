"""The call-flow file: its schema, loader, checks, drawing and commands.

The bottom layer: it imports no other Hotline package, so every package can
read the flow's typed values.
"""
