"""Customers Hub: customer management for real-estate teams in Saudi Arabia and the Gulf."""

__version__ = "0.1.0"
