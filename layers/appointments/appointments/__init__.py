"""Domain package of the appointment service: the rules, the data access and the API glue.

Where each rule lives:
- booking.py     no overbooking, one active appointment per applicant, idempotent booking,
                 atomic cancel and reschedule
- access.py      PIN checks and the lock-out after repeated wrong PINs
- services.py    which service may be booked where (asylum services need a case pending there)
- offices.py     the office catalogue and finding the office for a ZIP code or a country
- slots.py       creating slots and listing the free ones
- lookup.py      recovering a lost notice without revealing anything to a stranger
- notice_files.py  notices in S3 and by e-mail: when one is due, versions, links, mailing
- vocabulary.py  services, languages, appointment statuses and office kinds
- models.py      every DynamoDB table, as pynamodb models
"""
