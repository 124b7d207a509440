"""The family psychoeducation course: fourteen micro-lessons, as pure data named by message id."""
