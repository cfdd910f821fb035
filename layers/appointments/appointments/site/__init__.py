"""The public web site: server-rendered pages (templates/site) on the same domain rules as the
JSON API. Every page works without JavaScript: plain forms, POST-redirect-GET."""
