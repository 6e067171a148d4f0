"""SQLAlchemy adapters: schema, repositories, unit of work and read-side queries."""
