"""HTTP layer of the picks app: serializers and views."""
