"""The emulator's HTTP and SOAP edge: everything between the socket and the engine.

``server`` runs ``app`` (the ASGI application) on uvicorn, in the foreground or in a thread;
``app`` routes a request to ``service`` (one SOAP exchange: ``soap_in`` reads the request the
way WCF reads it, the engine carries it out, ``soap_out`` writes the answer in WCF's wire shape),
to ``metadata`` (the WSDL and XSDs, served live) or to ``control`` (the control plane's HTTP
layer over the engine's control operations).
"""
