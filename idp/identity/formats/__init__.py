"""The structure of the numbers a citizen types in: real algorithms, checked before any register is asked."""
