"""ogosync: keeps online stores and the myOGO warehouse management system in sync."""
