//! Item response theory (being written).
