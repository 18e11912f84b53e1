"""Local test equipment for ogosync (simulators and local stack); never deployed."""
