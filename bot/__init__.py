"""Geobrief: a Discord and Slack bot that keeps people briefed on geopolitics."""
