"""Exchange adapters and the replay format shared by recordings and the simulator."""
