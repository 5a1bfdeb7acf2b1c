"""What needs a person, in one queue ("Needs you")."""
