from gemmachat.cli import app

app()
