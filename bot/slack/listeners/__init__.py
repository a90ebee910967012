"""Bolt listeners: slash commands, button actions, events; each acks first."""
