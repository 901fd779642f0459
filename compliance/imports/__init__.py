"""Imports from the ERP: rows of one kind (purchase orders, quotes, invoices, credit notes) from a UTF-8
CSV file or an .xlsx workbook, all or nothing.

- reading: streams the rows of the file, refusing hostile files (not CSV, not UTF-8, a zip bomb, a
  header of millions of columns) with a sentence, before any row is read;
- kinds: the registry of kinds. Each kind names its columns, how a cell becomes a value, how a row is
  matched with a stored document (its number) and the service that records it: imports go through the
  same services as the admin and the API, so no rule is bypassed. A new kind (sales orders, price
  references, sales invoices) is one more entry;
- engine: runs an import. Every row is checked; one bad row and nothing is written, and the import
  keeps each row's errors (row 2 is the first data row, with the column and the reason). Invoices and
  sales invoices on PostgreSQL take the set-based path (bulk), credit notes its sibling (credits): COPY
  into a staging table, the checks as SQL over the whole file, then INSERT ... SELECT of the documents
  and their ledger entries, and the caps' alerts and breaches recorded by
  compliance.caps.ledger.cap_figures_changed in the same transaction.
"""
