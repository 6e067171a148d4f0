"""The pure domain core of Customers Hub: entities, enums, rules, events and errors.

Imports only the standard library, attrs and phonenumbers (a pure data library for phone rules);
never a database, web framework, cache or serializer.
"""
