package session

// StatelessClock lets the tests move the stateless store's clock.
var StatelessClock = statelessClock
