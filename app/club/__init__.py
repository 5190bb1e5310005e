"""The club domain: teams, parents, players and their contracts."""
