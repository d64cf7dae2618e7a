"""Low-credit alerts beyond the response: a webhook that fires once when a
key's balance crosses below its threshold, delivered in the background
with retries, every delivery recorded."""
