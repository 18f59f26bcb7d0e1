FLASK_APP=shop.py
