"""The front ends' live posts (one message per task) and their cursor."""
