"""Diagnostics: pure logic that turns what an admin pastes (SMTP replies, logs) into explanations."""
