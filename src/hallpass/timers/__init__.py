"""Timers: Dramatiq actors on Redis issue Expire/Activate commands; due times live in Postgres."""
