"""A sample of Matomo's device-detector fixtures: User-Agent headers and the device class they mean.

From matomo-org/device-detector, `Tests/fixtures/*.yml` (commit 3856a286,
2026-08-19; LGPL-3.0-or-later): a seeded random sample of each device type's
fixtures (`smartphone*.yml`, `tablet*.yml`, `tv*.yml`, `console.yml`, ...),
with Matomo's device type mapped to the spec's classes as Plausible maps
them, except cars, which the spec counts as desktops: smartphone, feature
phone, phablet, wearable, portable media player and camera are `mobile`;
tablet is `tablet`; desktop, tv, console and car browser are `desktop`.

`DIFFERENT` lists the headers whose device only Matomo's own model list
knows (Android TV boxes, car head units, laptops running Android, handheld
consoles): ua-parser gives a model name but no class, and that list is too
slow to consult per request (20 ms and more a header).
"""

from __future__ import annotations

DEVICES = [
    ('Mozilla/5.0 (Linux; Android 4.2.2; en-nz; SAMSUNG EK-GN120 Build/JDQ39) AppleWebKit/535.19 (KHTML, like Gecko) Version/1.0 Chrome/18.0.1025.308 Mobile Safari/535.19', 'mobile'),  # camera
    ('Mozilla/5.0 (Linux; Android 4.3; EK-GC200 Build/JSS15J) AppleWebKit/537.36 (KHTML like Gecko) Chrome/35.0.1916.141 Mobile Safari/537.36', 'mobile'),  # camera
    ('Mozilla/5.0 (Linux; U; Android 2.3.3; ja-jp; COOLPIX S800c Build/CP01_WW) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1', 'mobile'),  # camera
    ('Mozilla/5.0 (Linux; U; Android 4.0; de-DE; EK-GC100 Build/IMM76D) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30', 'mobile'),  # camera
    ('Mozilla/5.0 (Linux; Android 4.1.2; EK-GC110 Build/JZO54K) AppleWebKit/535.19 (KHTML, like Gecko) Chrome/18.0.1025.166 Mobile Safari/535.19', 'mobile'),  # camera
    ('Mozilla/5.0 (Linux; Android 7.1.2; RoiK10) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.0.0 Mobile Safari/537.36', 'desktop'),  # car_browser
    ('Mozilla/5.0 (Linux; Android 11.0.0; Mac Audio Spro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/89.0.4389.105 Safari/537.36', 'desktop'),  # car_browser
    ('Mozilla/5.0 (Linux; U; Android 9; SDA-8TAB Build/PPR1.181005.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.67 Safari/537.36 OPR/72.0.2254.67482', 'desktop'),  # car_browser
    ('Mozilla/5.0 (Linux; Android 9; AIVI-N3000RV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.0.0 Safari/537.36', 'desktop'),  # car_browser
    ('Dalvik/2.1.0 (Linux; U; Android 10; Polestar Build/QA1A.210116.001)', 'desktop'),  # car_browser
    ('Mozilla/5.0 (Linux; Android 9; FF-5000) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/95.0.4638.74 Mobile Safari/537.36', 'desktop'),  # car_browser
    ('Mozilla/5.0 (Linux; Android 7.0; QUAD-CORE T3 K2001M Build/MMB29M) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/30.0.1599.92 Safari/537.36', 'desktop'),  # car_browser
    ('Mozilla/5.0 (Linux; Android 9; AFTLBT962E2) AppleWebKit/537.36 (KHTML, like Gecko) Silk/118.3.1 like Chrome/118.0.5993.155 Safari/537.36', 'desktop'),  # car_browser
    ('Mozilla/5.0 (Linux; Android 9.1; F9212B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/94.0.4606.85 Safari/537.36', 'desktop'),  # car_browser
    ('Mozilla/5.0 (X11; u; Linux; C) AppleWebKit /533.3 (Khtml, like Gheko) QtCarBrowser Safari/533.3', 'desktop'),  # car_browser
    ('Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15', 'desktop'),  # console
    ('UCWEB/2.0 (MIDP-2.0; U; Adr 2.3.4; ru; JXD_S601WIFI) U2/1.0.0 UCBrowser/9.9.1.554 U2/1.0.0 Mobile', 'desktop'),  # console
    ('Mozilla/5.0 (Linux; arm_64; Android 13; Retroid Pocket 4 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.96 YaBrowser/24.4.3.96.00 SA/3 Mobile Safari/537.36', 'desktop'),  # console
    ('Mozilla/5.0 (Linux; arm_64; Android 15; Switch Lite) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.7339.854 YaSearchBrowser/25.101.1/apad BroPP/1.0 YaSearchApp/25.101.1/apad webOmni SA/3 Mobile Safari/537.36', 'desktop'),  # console
    ('Mozilla/5.0 (Linux; Android 13; Retroid Pocket 5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Mobile Safari/537.36', 'desktop'),  # console
    ('Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox Series X) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/48.0.2564.82 Safari/537.36 Edge/20.02', 'desktop'),  # console
    ('Mozilla/5.0 (Linux; U; Android OUYA 4.1.2; en-us; OUYA Build/JZO54L-OUYA) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Safari/534.30', 'desktop'),  # console
    ('Mozilla/5.0 (PLAYSTATION 3 4.46) AppleWebKit/531.22.8 (KHTML, like Gecko)', 'desktop'),  # console
    ('Mozilla/5.0 (Linux; Android 13; RG556) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Mobile Safari/537.36', 'desktop'),  # console
    ('Bunjalloo/0.7.6(Nintendo DS;U;en)', 'desktop'),  # console
    ('Mozilla/5.0 (PlayStation Vita 3.01) AppleWebKit/536.26 (KHTML, like Gecko) Silk/3.2', 'desktop'),  # console
    ('Mozilla/5.0 (Linux; Android 9; Retroid Pocket 2Plus) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/95.0.4638.74 Mobile Safari/537.36', 'desktop'),  # console
    ('Mozilla/5.0 (Nintendo Switch; LoginApplet; Nintendo Switch Lite) AppleWebKit/613.0 (KHTML, like Gecko) NF/6.0.3.28.8 NintendoBrowser/5.1.0.36948', 'desktop'),  # console
    ('Aplix_SANYO_browser/1.03 (Japanese)', 'desktop'),  # console
    ('Opera/9.30 (Nintendo Wii; U; ; 3642; en)', 'desktop'),  # console
    ('Mozilla/5.0 (Linux; Android 7.1.1; HP EliteBook 8470p) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.92 Safari/537.36', 'desktop'),  # desktop
    ('Mozilla/5.0 (Windows NT 10.0.16299.19; osmeta 10.3.2535) AppleWebKit/602.1.1 (KHTML, like Gecko) Version/9.0 Safari/602.1.1 osmeta/10.3.2535 Build/2535 [FBAN/FBW;FBAV/140.0.0.205.179;FBBV/74431143;FBDV/WindowsDevice;FBMD/XPS 15 9550;FBSN/Windows;FBSV/10.0.16299.64;FBSS/2;FBCR/;FBID/desktop;FBLC/ko_KR;FBOP/45;FBRV/0]', 'desktop'),  # desktop
    ('Microsoft Office Word/16.78.1008 (Mac OS/14.0; Desktop; en-US; NonAppStore; Apple/Mac13,1)', 'desktop'),  # desktop
    ('Mozilla/4.7 (compatible; OffByOne; Windows 2000) Webster Pro V3.4', 'desktop'),  # desktop
    ('Microsoft Office OneNote/16.0.11601.20130 (Windows/10.0; Desktop x64; en-GB; Desktop app; Dell Inc./OptiPlex 3050)', 'desktop'),  # desktop
    ('Mozilla/5.0 (Windows NT 10.0.16299.125; osmeta 10.3.3308) AppleWebKit/602.1.1 (KHTML, like Gecko) Version/9.0 Safari/602.1.1 osmeta/10.3.3308 Build/3308 [FBAN/FBW;FBAV/140.0.0.232.179;FBBV/83145113;FBDV/WindowsDevice;FBMD/80VR;FBSN/Windows;FBSV/10.0.16299.371;FBSS/1;FBCR/;FBID/desktop;FBLC/ru_RU;FBOP/45;FBRV/0]', 'desktop'),  # desktop
    ('1PasswordThumbs/1 CFNetwork/596.5 Darwin/12.5.0 (x86_64) (MacBookPro10%2C2)', 'desktop'),  # desktop
    ('Mozilla/5.0 (Windows NT 6.0; WOW64; rv:18.0) Gecko/20100101 Firefox/18.0', 'desktop'),  # desktop
    ('Mozilla/5.0 (Linux; Android 11; HP Engage One Pro AIO System) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.87 Safari/537.36', 'desktop'),  # desktop
    ('Microsoft Office Word/16.11.311 (Mac OS/10.13.3; Desktop; en-US; NonAppStore; Apple/MacBookPro13,2)', 'desktop'),  # desktop
    ('Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:26.0) Gecko/20100101 Firefox/26.0', 'desktop'),  # desktop
    ('Microsoft Office Word/16.43.1108 (Mac OS/11.1; Desktop; es-MX; NonAppStore; Apple/MacBookPro16,4)', 'desktop'),  # desktop
    ('Mozilla/4.04 [en] (X11; I; IRIX 5.3 IP22)', 'desktop'),  # desktop
    ('Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.2; WOW64; Trident/6.0; .NET4.0E; .NET4.0C; .NET CLR 3.5.30729; .NET CLR 2.0.50727; .NET CLR 3.0.30729; CPNTDFJS)', 'desktop'),  # desktop
    ('Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.8.1.13) Gecko/20080313 SeaMonkey/1.1.9 (Ubuntu-1.1.9+nobinonly-0ubuntu1)', 'desktop'),  # desktop
    ('Mozilla/5.0 (Linux; Android 7.1.1; Inspiron 5567) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.101 Safari/537.36', 'desktop'),  # desktop
    ('Microsoft Office Word/16.78.1008 (Mac OS/14.0; Desktop; en-US; NonAppStore; Apple/Mac15,11)', 'desktop'),  # desktop
    ('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1 DuckDuckGo/7 Safari/605.1.15', 'desktop'),  # desktop
    ('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_8_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/31.0.1650.63 Safari/537.36', 'desktop'),  # desktop
    ('Mozilla/5.0 (Windows NT 10.0.16299.98; osmeta 10.3.3308) AppleWebKit/602.1.1 (KHTML, like Gecko) Version/9.0 Safari/602.1.1 osmeta/10.3.3308 Build/3308 [FBAN/FBW;FBAV/140.0.0.232.179;FBBV/83145113;FBDV/WindowsDevice;FBMD/Predator G9-793;FBSN/Windows;FBSV/10.0.16299.125;FBSS/1;FBCR/;FBID/desktop;FBLC/de_DE;FBOP/45;FBRV/0]', 'desktop'),  # desktop
    ('Mozilla/5.0 (Linux; Android 7.1.2; HP EliteBook 820 G2) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.185 Safari/537.36', 'desktop'),  # desktop
    ('Safari/8536.30.1 CFNetwork/596.5 Darwin/12.5.0 (x86_64) (iMac13%2C1)', 'desktop'),  # desktop
    ('Microsoft Office Word/16.78.1008 (Mac OS/14.0; Desktop; en-US; NonAppStore; Apple/Mac14,8)', 'desktop'),  # desktop
    ('Mozilla/5.0 (X11; U; Linux i686; es-ES; rv:2.0) Gecko/20100101 Linux Mint 16/Petra Firefox/25.0.1.', 'desktop'),  # desktop
    ('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.21 (KHTML, like Gecko) rekonq/2.3.2 Safari/537.21', 'desktop'),  # desktop
    ('Safari/6533.19.4 CFNetwork/454.11.5 Darwin/10.6.0 (i386) (iMac5%2C1)', 'desktop'),  # desktop
    ('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_2) AppleWebKit/537.36 (KHTML, like Gecko) brave/0.7.9 Chrome/47.0.2526.73 Electron/0.36.2 Safari/537.36', 'desktop'),  # desktop
    ('Opera/9.46.(Windows 95; lg-UG) Presto/2.9.172 Version/11.00', 'desktop'),  # desktop
    ('Mozilla/5.0 (Linux; Android 7.1.1; Inspiron 5468) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.121 Safari/537.36', 'desktop'),  # desktop
    ('Microsoft Office PowerPoint/16.54.1010 (Mac OS/11.5.1; Desktop; en-US; NonAppStore; Apple/iMac18,3)', 'desktop'),  # desktop
    ('Mozilla/5.0 (Mobile; Digit_Digit4GLite_4G; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5.3.2', 'mobile'),  # feature_phone
    ('Mozilla/5.0 (Mobile; ENERGIZER_E241S; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5.3.2', 'mobile'),  # feature_phone
    ('Mozilla/5.0 (Mobile; ATT_EA211101; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5.4', 'mobile'),  # feature_phone
    ('Mozilla/5.0 (Mobile; LOGAN_Panita_3G; rv:48.0; CAEN) Gecko/48.0 Firefox/48.0 KAIOS/2.5.1.2', 'mobile'),  # feature_phone
    ('Mozilla/5.0 (Mobile;Orange_Nevalink;rv:48.0; CAEN) Gecko/48.0 Firefox/48.0 KAIOS/2.5.2', 'mobile'),  # feature_phone
    ('SonyEricssonCK13i/R5AA032 TelecaBrowser/Q07C1-1 Profile/MIDP-2.0 Configuration/CLDC-1.1', 'mobile'),  # feature_phone
    ('Mozilla/5.0 (Mobile; Digit_Digit4GPowerMAX_4G; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5.3.2', 'mobile'),  # feature_phone
    ('Mozilla/5.0 (Mobile; Digit_Digit4G-Power_4G; rv:48.0; CAEN) Gecko/48.0 Firefox/48.0 KAIOS/2.5.3.2', 'mobile'),  # feature_phone
    ('Mozilla/5.0 (Mobile; LYF/LF-2403N/LYF-LF2403N-000-01-38-151217;Android; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.0', 'mobile'),  # feature_phone
    ('SAGEM-myC5-2v/1.0 UP.Browser/6.2.3.3.g.2.106 (GUI) MMP/2.0', 'mobile'),  # feature_phone
    ('Mozilla/5.0 (Mobile;Orange_Nevamini;rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5.2.1', 'mobile'),  # feature_phone
    ('LAVA Spark i7/MIDP-2.0 Configuration/CLDC-1.1/Screen-240x320  Dorado WAP-Browser', 'mobile'),  # feature_phone
    ('Mozilla/5.0 (Mobile; ALCATEL4044C; rv:37.0) Gecko/37.0 Firefox/37.0 KaiOS/1.0', 'mobile'),  # feature_phone
    ('Mozilla/5.0 (Mobile; DIXON_XK1_3G; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5.1.1', 'mobile'),  # feature_phone
    ('Mozilla/5.0 (Mobile; Energizer_E242S_4G; rv:48.0; CAEN) Gecko/48.0 Firefox/48.0 KAIOS/2.5.3.2', 'mobile'),  # feature_phone
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148/smzdm 10.6.20 rv:143.4 (iPhone 13 Pro; iOS 17.1.1; zh_CN)/iphone_smzdmapp/10.6.20/wkwebview/jsbv_1.0.0', 'mobile'),  # phablet
    ('dv(iPh10,6);pr(UCBrowser/11.3.5.1203);ov(14_7_1);ss(375x812);bt(GJ);pm(0);bv(0);nm(0);im(0);nt(1);', 'mobile'),  # phablet
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/20G75 Instagram 296.0.0.18.107 (iPhone14,8; iOS 16_6; en_US; en; scale=3.00; 1284x2778; 505423516)', 'mobile'),  # phablet
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 14_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 QQ/9.0.17.638 V1_IPH_SQ_9.0.17_1_APP_A Pixel/1242 SimpleUISwitch/0 StudyMode/0 CurrentMode/0 CurrentFontScale/1.000000 QQTheme/1102 AppId/537203242 Core/WKWebView Device/Apple(iPhone 11 Pro Max) NetType/WIFI QBWebViewType/1 WKType/1', 'mobile'),  # phablet
    ('Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Mobile Safari/537.36', 'mobile'),  # phablet
    ('Mozilla/5.0 (Linux; Android 12; 22101316UC Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/103.0.5060.129 Mobile Safari/537.36 SP-engine/2.40.0 baiduboxapp/13.2.0.10 (Baidu; P1 12) NABar/1.0', 'mobile'),  # phablet
    ('Mozilla/5.0 (Linux; arm_64; Android 11; Infinix X663B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.116 YaApp_Android/22.11.1 YaSearchBrowser/22.11.1 BroPP/1.0 SA/3 Mobile Safari/537.36', 'mobile'),  # phablet
    ('Mozilla/5.0 (Linux; Android 5.1.1; SM-G530P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.101 Mobile Safari/537.36', 'mobile'),  # phablet
    ('Mozilla/5.0 (Linux; Android 15; SM-F741U Build/AP3A.240905.015.A2; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/135.0.7049.111 Mobile Safari/537.36 TwitterAndroid', 'mobile'),  # phablet
    ('Mozilla/5.0 (Linux; arm_64; Android 12; 22101316UG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.0.0 YaBrowser/23.3.2.86.00 SA/3 Mobile Safari/537.36', 'mobile'),  # phablet
    ('iPhoneSE2ndGen', 'mobile'),  # phablet
    ('dv(iPh14,5);pr(UCBrowser/13.9.0.1727);ov(15_4_1);ss(390x844);bt(UC);pm(0);bv(0);nm(0);im(0);nt(1);', 'mobile'),  # phablet
    ('Mozilla/5.0 (Linux; U; Android 4.1.2; ar-eg; M-MP5303G Build/JZO54K) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30', 'mobile'),  # phablet
    ('Mozilla/5.0 (Linux; Android 5.1.1; Redmi Note 3 Build/LMY47V) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.85 Mobile Safari/537.36', 'mobile'),  # phablet
    ('Dalvik/2.1.0 (Linux; U; Android 5.0; SCL22 Build/LRX21V)', 'mobile'),  # phablet
    ('Mozilla/5.0 (Linux; Android 5.1.1; XDP-300R Build/LMY47V) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/50.0.2661.89 Mobile Safari/537.36', 'mobile'),  # portable_media_player
    ('Mozilla/5.0 (Linux; Android 9.0.0; MECHEN H1-Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 'mobile'),  # portable_media_player
    ('Mozilla/5.0 (Linux; Android 5.1.1; MusicPAD_M1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/76.0.3809.111 Safari/537.36', 'mobile'),  # portable_media_player
    ('Mozilla/5.0 (Linux; Android 9; NW-A100Series) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.110 Mobile Safari/537.36', 'mobile'),  # portable_media_player
    ('Mozilla/5.0 (Linux; Android 7.0; FiiO M11) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Mobile Safari/537.36', 'mobile'),  # portable_media_player
    ('GooglePodcasts/2.0.2 iPod_touch/13.4.1 hw/iPod9_1', 'mobile'),  # portable_media_player
    ('Mozilla/5.0 (Linux; Android 7.0; DRP29101) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.162 Safari/537.36', 'mobile'),  # portable_media_player
    ('Mozilla/5.0 (Linux; Android 12; R6III Build/SKQ1.211006.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/91.0.4472.114 Mobile Safari/537.36', 'mobile'),  # portable_media_player
    ('Mozilla/5.0 (Linux; Android 11; CPH2421) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/101.0.4951.41 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 9; MOVE9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/93.0.4577.82 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 10; SCV43-u) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/14.0 Chrome/87.0.4280.141 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 4.3; C5302 Build/12.1.A.1.201) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/34.0.1847.114 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 12; 22120RN86G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/111.0.0.0 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 11; SM-G981U Build/RP1A.200720.012; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/95.0.4638.50 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; U; Android 10; zh-CN; EBG-AN10 Build/XXXXX) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/57.0.2987.108 UCBrowser/12.0.2.995 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 12; Armor 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 9; FIG-LA1 Build/HUAWEIFIG-LA1; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/84.0.4147.105 Mobile Safari/537.36 GSA/11.21.9.21.arm64', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; arm; Android 12; myPhone Jet) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.2335 YaSearchBrowser/24.40.1 BroPP/1.0 YaSearchApp/24.40.1 webOmni SA/3 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 5.1; MTECH TURBO L7 Build/LMY47D; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/46.0.2490.76 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 5.1.1; LGL81AL) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.101 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; U; Android 4.2.2; ja-jp; L-05E Build/JDQ39) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.2 Mobile Safari/534.30', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 7.0; C8 4G Build/NRD90M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/77.0.3865.73 Mobile Safari/537.36 Instagram 110.0.0.16.119 Android (24/7.0; 320dpi; 640x1184; OUKITEL; C8 4G; C8_4G; mt6735; ru_RU; 171727780)', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 6.0; knmobile Q55) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/84.0.4147.125 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; U; Android 2.3.5; en-us; DROIDZ Force Build/MocorDroid2.3.5) AppleWebKit/533.1 (KHTML like Gecko) Version/4.0 Mobile Safari/533.1', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 7.0; Jax_S_A7 Build/NRD90M) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/65.0.3325.109 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 12; SM-A536V) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/102.0.0.0 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; U; Android 4.2.2; en-in; Micromax A58 Build/JDQ39) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; U; Android 10; zh-CN; MZ-M2010J19SY Build/MRA58K) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/57.0.2987.108 MZBrowser/2.1.022 UWS/ Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 6.0; PSP3533DUO) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/92.0.4515.115 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 8.1.0; AURA PLUS) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.117 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 9; HTC U11 life) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/84.0.4147.125 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 Linux; Android 6.0; FTJ162D AppleWebKit/537.36 KHTML, like Gecko Chrome/74.0.3729.136 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 5.1; 5015X Build/LMY47I) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.98 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('samsung-GT-I8550/1.0 Linux/2.6.35.7 Android/4.2.2 Release/08.08.2013 Browser/AppleWebKit533.1 (KHTML, like Gecko) Mozilla/5.0 Mobile', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 7.0; ROCK_X11) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 10; SCG04) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.66 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 7.0; Me 5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0.4103.60 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 4.1.2; XT901 Build/9.8.2Q-50_SLS-13) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/33.0.1750.136 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 9.0; SM-M30s Build/LMY47I) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/39.0.0.0 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 13; Armor 24) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 6.0.1; TG-L900S Build/MMB29M) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/64.0.3282.137 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 4.4.4; E2104 Build/24.0.A.1.34) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.98 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 6.0; LG-H812) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.149 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 6.0.1; Vestel_5000) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/85.0.4183.101 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; arm_64; Android 13; V2278A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.5845.64 YaSearchBrowser/23.99/apad BroPP/1.0 YaSearchApp/23.99/apad webOmni SA/3 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 13_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Mobile/15E148 Safari/605.1 NAVER(inapp; search; 700; 10.20.2; 8)', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 7.0; X-Treme_PQ51) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.120 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 4.2.2; SHW-M570S) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.116 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (compatible; MSIE 9.0; Windows Phone OS 7.5; Trident/5.0; IEMobile/9.0; ZTE; MegaFon SP-W1)', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 8.1.0; BPRO) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.101 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; arm; Android 11; ZTE Blade A51RU) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.164 YaBrowser/21.6.6.55.00 SA/3 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; U; Android 4.3; fr-fr; HTC_One_mini Build/JSS15Q) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; arm; Android 7.0; HT26) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/94.0.4606.85 YaApp_Android/21.117.1 YaSearchBrowser/21.117.1 BroPP/1.0 SA/3 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 8.1.0; RD86E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.104 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 6.0.1; 6045Y Build/MMB29M) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/50.0.2661.89 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 10; TECNO KD6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0.4430.210 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 12; XT2045-3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.5845.141 Mobile Safari/537.36 OPR/103.0.4892.0', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 7.1.1; F-03H Build/V07R043A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/92.0.4515.166 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 8.1.0; Linx Argo 3G LT4054MG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.73 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 6.0; F4502 Build/MRA58K; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/90.0.4430.210 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 7.0; M-PPxS5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.136 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 4.4.2; VS880 Build/KOT49I.VS88012A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.135 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 14; HMD Vibe) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 8.1.0; XPOWER_P6000) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0.4103.106 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 11; Mi 5s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0.4430.91 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 12; T776O) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.0.0 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 5.1; MEDION E4504) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.101 Mobile Safari/537.36', 'mobile'),  # smartphone
    ('Mozilla/5.0 (Linux; Android 5.1; TAB-A03-BR2 Build/02.00.000; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/59.0.3071.125 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 5.0.1; YOGA Tablet 2-830LC) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.143 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; U; Android 4.2.2; fr-fr; LIFETAB_E10320 Build/JDQ39) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Safari/534.30', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 4.1.1; CT720 Build/JRO03C) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/34.0.1847.114 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; U; Android 4.0.3; en-gb; AT470 Build/IML74K) AppleWebKit/534.30 (KHTML, like Gecko) Chrome/18.0.1025.166 Safari/535.19', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 7.0; SAMSUNG SM-T817A Build/NRD90M) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/8.2 Chrome/63.0.3239.111 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 11; HiPadPlus) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.70 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; U; Android 2.2.1; ru-ru; RoverPad 3W A73 Build/FROYO) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 9; R110) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.198 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; U; Android 4.1.1; de-us; RC9730C Build/JRO03H) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Safari/534.30', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 6.0; BG2-W09) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.80 Mobile Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 8.1.0; SAMSUNG SM-T395 Build/M1AJQ) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/8.2 Chrome/63.0.3239.111 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 4.2.2; T7V 3G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 YaBrowser/18.11.1.1011.01 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 7.0; Plane_7547S_3G_PS7159PG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/94.0.4606.61 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 10; K87CC) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/113.0.0.0 Mobile Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; x86; Android 5.1; i15-TG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/94.0.4600.1 YaBrowser/20.11.3.88.01 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 15; SM-X400 Build/AP3A.240905.015.A2; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/141.0.7390.122 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 11; ST11-A5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/105.0.0.0 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; U; Android 7.1.1; zh-CN; Leke Pad-L04 Build/NMF26F) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 Quark/5.2.2.186 Mobile Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 7.0; TZ720) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.136 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 5.1; Masstel Tab 706) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.149 Mobile Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 9; DG101TBIPS) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.73 Safari/537.36', 'tablet'),  # tablet
    ("Mozilla/5.0 (Linux; U; Android 4.2.2; fr-fr; eZee'Tab904 Build/JDQ39) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Safari/534.30", 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 5.0.2; SOT21) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/95.0.4638.74 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 5.1; QC-703GN Build/LMY47I; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/55.0.2883.91 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 6.0; KM0804) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.132 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 11; SM-T297) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/95.0.4638.50 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 7.0; CITI_8542_4G_CS8152ML) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 4.4.2; Slate 21 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3872.2 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 11; PMT4511_4G_EEA) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/113.0.0.0 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 12; 9137W) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Mobile Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; U; Android 3.2; sr-rs; GT-P6200 Build/HTJ85B) AppleWebKit/534.13 (KHTML, like Gecko) Version/4.0 Safari/534.13', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 6.0; CITI 7905 4G CT7096PL Build/MRA58K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/67.0.3396.87 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 6.0; SurfTab breeze 10.1 quad 3G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.80 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 10; 9317X1 Build/PPR1.180610.011) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/102.0.5005.125 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 4.2.2; A1-830 Build/JDQ39) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/28.0.1500.94 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 8.1.0; TEO13P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.73 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 Linux; Android 4.4.2; BQ-7003 Build/KOT49H AppleWebKit/537.36 KHTML, like Gecko Version/4.0 Chrome/30.0.0.0 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; arm_64; Android 8.0.0; M210) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/98.0.4758.132 YaApp_Android/22.32.1/apad YaSearchBrowser/22.32.1/apad BroPP/1.0 SA/3 Mobile Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 5.0.2; SAMSUNG-SM-T707A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.99 Safari/537.36', 'tablet'),  # tablet
    ('Mozilla/5.0 (Linux; Android 11; 43LEX-8265-UTS2C Build/RP1A.200720.011; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/113.0.5672.163 YaBrowser/24.12.0.453 (lite) TV Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 4.4.4; 50UX10S) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.157 Mobile Safari/537.36', 'desktop'),  # tv
    ('Opera/9.80 NETTV/4.5.0 Mozilla/5.0 (Linux armv7i; CE-HTML/1.0; U; en) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.75 Safari/537.36 NETRANGEMMH Tbrowser/2.0 _TV_NT563/V8-NT563LA-LF1V380 (Panasonic_S,43D1270,wireless)', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 7.0; K24DLX9HS Build/NRD90M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/51.0.2704.91 Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chr0me/38.0.2125.122 Safari/537.36 LG Browser/8.00.00(LGE; 43UJ630V-ZA; 06.00.15; 1; DTV_W17P); webOS.TV-2017; LG NetCast.TV-2013 Compatible (LGE, 43UJ630V-ZA, wireless)', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux ) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.120 Safari/537.36 OPR/46.0.2207.0 OMI/4.20.5.61.LIMA.179 Model/Vestel-MB181 VSTVB MB100 FVC/5.0 (ALTIMO; MB181; ) SmartTvA/3.0.0', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux ) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.120 Safari/537.36 OPR/46.0.2207.0 OMI/4.20.5.61.LIMA.215 Model/Vestel-MB181 VSTVB MB100 HbbTV/1.5.1 (+DRM; SCHONTECH; MB181; 2.49.0.0; ; _TV_G36_2020;) SmartTvA/3.0.0', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 9; UGOOS-AM6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3962.2 Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 7.1.1; pendoo mini) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.101 Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 13; 32OV6000H Build/TP1A.220905.004.A2; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/101.0.4951.61 Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 10; pendoo X11 PRO) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.121 Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 4.4.4; ViBox_V2_Pro Build/KTU84Q) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/33.0.0.0 Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 9.0; BeyondTV Build/PPR1.180610.011) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/57.0.2987.132 Mobile Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 11; 43LU1222 Build/RP1A.200720.011; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/113.0.5672.163 YaBrowser/24.12.0.453 (lite) TV Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 9; U43H8000E Build/PPR2.180905.006.A1; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/66.0.3359.158 YaBrowser/22.8.0.9 (lite) TV Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 7.0; SPYBOXS11_PLUS Build/NRD90M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/51.0.2704.91 Safari/537.36/8.5.0 (Linux;Android 7.0) ExoPlayerLib/2.6.1', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 9; A95X F2 RU) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Mobile Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 11; MLT55USD02G Build/RP1A.200720.011; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/83.0.4103.120 YaBrowser/24.1.2.182 (lite) Safari/537.36 TV', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 13; N50HQ2305SVF Build/TP1A.220905.004.A2; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/101.0.4951.61 YaBrowser/22.8.0.15 (lite) Safari/537.36 TV', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 9; FengMiProjA2) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 OPR/58.4.2878.56737', 'desktop'),  # tv
    ('VIZIO V655-J09 ViziOS/1.4.512.847.1 WatchFree/24.06.13.2 FancyPlayer/1.1.30-qa', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 7.1.2; VORKE Z6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.101 Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 5.1; S900_Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.143 Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.87 Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 7.0; Polar_P24L51T2CSM Build/NRD90M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/51.0.2704.91 Safari/537.36', 'desktop'),  # tv
    ('Opera/9.80 (Linux mips; U; ; xx) Presto/2.10.287 Version/12.00 HbbTV/1.1.1 (; CUS:SHARP; MB95; 2.1.9.o; 1.0;) CE-HTML/1.0 NETRANGEMMH iplayerV3', 'desktop'),  # tv
    ('Mozilla/5.0 (Android armv8l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/55.0.2883.91 Safari/537.36 Model/Vestel-MB185 VSTVB MB185 FVC/6.0 (TELEFUNKEN; MB185; ) HbbTV/1.5.1 (+DRM; TELEFUNKEN; MB185; R2.0.1.0.0.V0.25.3; ; _TV_MSTARG31_2021;) SmartTvA/3.0.0 LaTivu_1.0.1_2022', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 9; PATH_7XPRO Build/PI; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/129.0.6668.100 Mobile Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Android 8.0.0; BRAVIA 4K UR2) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.96 Mobile Safari/537.36', 'desktop'),  # tv
    ('Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.121 Safari/537.36 CrKey/1.0.999999 VIZIO SmartCast(Conjure/SX7A-4.6.419.12 FW/11.0.120.1-1 Model/E43-E2)', 'desktop'),  # tv
    ('Mozilla/5.0 (Linux; Tizen 5.5; SAMSUNG SM-R855F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/69.0.3497.106 Mobile Safari/537.36', 'mobile'),  # wearable
    ('Mozilla/5.0 (Linux; Android 12; RES102 Build/STTC.230104.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.60 YaBrowser/24.1.2.342 (lite) TV Safari/537.36', 'mobile'),  # wearable
    ('Mozilla/5.0 (Linux; Android 10; Quest 2) AppleWebKit/537.36 (KHTML, like Gecko) OculusBrowser/13.0.0.2.16.259832224 SamsungBrowser/4.0 Chrome/87.0.4280.66 VR Safari/537.36', 'mobile'),  # wearable
    ('atc/1.0 watchOS/6.0 model/Watch4,1 hwp/t8006 build/17R5556d (6; dt:190)', 'mobile'),  # wearable
    ('Mozilla/5.0 (Linux; Tizen 4.0; SAMSUNG SM-R600) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/2.0 Chrome/56.0.2924.0 Mobile Safari/537.36', 'mobile'),  # wearable
    ('atc/1.0 watchOS/6.1.1 model/Watch5,1 hwp/t8006 build/17S449 (6; dt:201)', 'mobile'),  # wearable
    ('Mozilla/5.0 Linux; Android 7.1.1; LG Watch Urbane Build/NWD1.180306.004 AppleWebKit/537.36 KHTML, like Gecko Chrome/19.77.34.5 Mobile Safari/537.36', 'mobile'),  # wearable
    ('Mozilla/5.0 (Linux; Tizen 4.0; SAMSUNG SM-R805U) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/56.0.2924.0 Mobile Safari/537.36', 'mobile'),  # wearable
    ('Mozilla/5.0 (Linux; Android 10; GLL-AL01) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/64.0.3282.137 Mobile Safari/537.36', 'mobile'),  # wearable
    ('Mozilla/5.0 (Linux; Android 10; LEM14 Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/74.0.3729.186 Mobile Safari/537.36', 'mobile'),  # wearable
]
"""(User-Agent header, device class): Matomo's fixtures, its type mapped to the spec's class."""

DIFFERENT = {
    'Mozilla/5.0 (Linux; Android 7.1.2; RoiK10) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; U; Android 9; SDA-8TAB Build/PPR1.181005.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.67 Safari/537.36 OPR/72.0.2254.67482',
    'Mozilla/5.0 (Linux; Android 9; AIVI-N3000RV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.0.0 Safari/537.36',
    'Dalvik/2.1.0 (Linux; U; Android 10; Polestar Build/QA1A.210116.001)',
    'Mozilla/5.0 (Linux; Android 9; FF-5000) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/95.0.4638.74 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 7.0; QUAD-CORE T3 K2001M Build/MMB29M) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/30.0.1599.92 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 9.1; F9212B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/94.0.4606.85 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 13; RG556) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Mobile Safari/537.36',
    'Aplix_SANYO_browser/1.03 (Japanese)',
    'Mozilla/5.0 (Linux; Android 7.1.1; HP EliteBook 8470p) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.92 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 11; HP Engage One Pro AIO System) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.87 Safari/537.36',
    'Mozilla/4.04 [en] (X11; I; IRIX 5.3 IP22)',
    'Mozilla/5.0 (Linux; Android 7.1.1; Inspiron 5567) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.101 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 7.1.2; HP EliteBook 820 G2) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.185 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 7.1.1; Inspiron 5468) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.121 Safari/537.36',
    'SonyEricssonCK13i/R5AA032 TelecaBrowser/Q07C1-1 Profile/MIDP-2.0 Configuration/CLDC-1.1',
    'dv(iPh10,6);pr(UCBrowser/11.3.5.1203);ov(14_7_1);ss(375x812);bt(GJ);pm(0);bv(0);nm(0);im(0);nt(1);',
    'dv(iPh14,5);pr(UCBrowser/13.9.0.1727);ov(15_4_1);ss(390x844);bt(UC);pm(0);bv(0);nm(0);im(0);nt(1);',
    'Mozilla/5.0 (Linux; Android 5.1.1; MusicPAD_M1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/76.0.3809.111 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 7.0; DRP29101) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.162 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 6.0; BG2-W09) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.80 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 10; K87CC) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/113.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 12; 9137W) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; arm_64; Android 8.0.0; M210) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/98.0.4758.132 YaApp_Android/22.32.1/apad YaSearchBrowser/22.32.1/apad BroPP/1.0 SA/3 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 11; 43LEX-8265-UTS2C Build/RP1A.200720.011; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/113.0.5672.163 YaBrowser/24.12.0.453 (lite) TV Safari/537.36',
    'Mozilla/5.0 (Linux; Android 4.4.4; 50UX10S) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.157 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 7.0; K24DLX9HS Build/NRD90M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/51.0.2704.91 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 9; UGOOS-AM6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3962.2 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 7.1.1; pendoo mini) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.101 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 13; 32OV6000H Build/TP1A.220905.004.A2; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/101.0.4951.61 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 10; pendoo X11 PRO) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.121 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 4.4.4; ViBox_V2_Pro Build/KTU84Q) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/33.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 9.0; BeyondTV Build/PPR1.180610.011) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/57.0.2987.132 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 11; 43LU1222 Build/RP1A.200720.011; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/113.0.5672.163 YaBrowser/24.12.0.453 (lite) TV Safari/537.36',
    'Mozilla/5.0 (Linux; Android 9; U43H8000E Build/PPR2.180905.006.A1; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/66.0.3359.158 YaBrowser/22.8.0.9 (lite) TV Safari/537.36',
    'Mozilla/5.0 (Linux; Android 7.0; SPYBOXS11_PLUS Build/NRD90M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/51.0.2704.91 Safari/537.36/8.5.0 (Linux;Android 7.0) ExoPlayerLib/2.6.1',
    'Mozilla/5.0 (Linux; Android 9; A95X F2 RU) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 9; FengMiProjA2) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 OPR/58.4.2878.56737',
    'VIZIO V655-J09 ViziOS/1.4.512.847.1 WatchFree/24.06.13.2 FancyPlayer/1.1.30-qa',
    'Mozilla/5.0 (Linux; Android 7.1.2; VORKE Z6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.101 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 5.1; S900_Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.143 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 7.0; Polar_P24L51T2CSM Build/NRD90M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/51.0.2704.91 Safari/537.36',
    'Mozilla/5.0 (Linux; Android 9; PATH_7XPRO Build/PI; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/129.0.6668.100 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 12; RES102 Build/STTC.230104.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.60 YaBrowser/24.1.2.342 (lite) TV Safari/537.36',
    'Mozilla/5.0 (Linux; Android 10; Quest 2) AppleWebKit/537.36 (KHTML, like Gecko) OculusBrowser/13.0.0.2.16.259832224 SamsungBrowser/4.0 Chrome/87.0.4280.66 VR Safari/537.36',
}
