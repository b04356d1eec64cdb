"""The composition root: the app factory, the `sanad` command and the migrations environment.
The only package that imports every domain; nothing imports it."""
