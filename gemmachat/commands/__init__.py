"""The admin commands of `gemmachat`: they work on the database directly,
through the same services as the admin API, so they work with the server
down."""
