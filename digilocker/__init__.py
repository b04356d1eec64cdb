"""DigiLocker: Punjab's certificates pulled and pushed through the national locker."""
