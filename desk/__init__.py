"""The agents' desk: web pages where agents sign in, set their status, see who is
calling and why, accept or pass, take notes, wrap up, and handle callbacks and
voicemails. The decisions are ``queueing.desk``'s; these are the pages."""
