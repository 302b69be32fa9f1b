"""Classify MCP tools as read / write / destructive, with risk, confidence and reasons."""
