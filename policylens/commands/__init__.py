"""policylens/commands."""
