//! Bradley-Terry strengths (being written).
