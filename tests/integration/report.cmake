# shipment report (issue 13): the fixture's PDF through poppler-utils and qpdf
ot_py_test(integration.report_pdf report_pdf.py)
