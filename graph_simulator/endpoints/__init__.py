"""Graph endpoints by subject, each module contributing rows to the route table."""
