//! (placeholder: tests to come)
