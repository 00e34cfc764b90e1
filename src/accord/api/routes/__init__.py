"""The API's routes, by area: people (purpose-bound reads), casework, administration, data."""
