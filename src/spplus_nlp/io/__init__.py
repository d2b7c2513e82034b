"""Reading SP+ exports and writing scored results."""
