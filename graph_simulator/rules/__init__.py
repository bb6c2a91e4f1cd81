"""Meta's payload rules the simulator enforces: message sends, templates, Flow JSON."""
