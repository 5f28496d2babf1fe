"""StreamForge: real-time cryptocurrency market data into Kafka, storage, graphs and GNNs."""

__version__ = "0.1.0"
