"""Alert rules: each looks at the affected days and scopes and proposes alerts; the writer keeps them unique."""
